"""Optimizers: short chains of transformations, one module per family."""


from gradtx.optimizers.adam import adabelief as adabelief
from gradtx.optimizers.adam import adam as adam
from gradtx.optimizers.adam import adamax as adamax
from gradtx.optimizers.adam import adamaxw as adamaxw
from gradtx.optimizers.adam import adamw as adamw
from gradtx.optimizers.adam import amsgrad as amsgrad
from gradtx.optimizers.adam import nadam as nadam
from gradtx.optimizers.adam import nadamw as nadamw
from gradtx.optimizers.adam import novograd as novograd
from gradtx.optimizers.adam import radam as radam
from gradtx.optimizers.adam import yogi as yogi
from gradtx.optimizers.adan import adan as adan
from gradtx.optimizers.adaptive import adadelta as adadelta
from gradtx.optimizers.adaptive import adafactor as adafactor
from gradtx.optimizers.adaptive import adagrad as adagrad
from gradtx.optimizers.adaptive import rmsprop as rmsprop
from gradtx.optimizers.adaptive import sm3 as sm3
from gradtx.optimizers.layerwise import fromage as fromage
from gradtx.optimizers.layerwise import lamb as lamb
from gradtx.optimizers.layerwise import lars as lars
from gradtx.optimizers.lbfgs import lbfgs as lbfgs
from gradtx.optimizers.optimistic import optimistic_adam as optimistic_adam
from gradtx.optimizers.optimistic import optimistic_adam_v2 as optimistic_adam_v2
from gradtx.optimizers.optimistic import optimistic_gradient_descent as optimistic_gradient_descent
from gradtx.optimizers.polyak import polyak_sgd as polyak_sgd
from gradtx.optimizers.rprop import rprop as rprop
from gradtx.optimizers.sgd import noisy_sgd as noisy_sgd
from gradtx.optimizers.sgd import sgd as sgd
from gradtx.optimizers.sgd import sign_sgd as sign_sgd
from gradtx.optimizers.sgd import signum as signum
from gradtx.optimizers.sign import lion as lion

__all__ = [
    'adabelief',
    'adadelta',
    'adafactor',
    'adagrad',
    'adam',
    'adamax',
    'adamaxw',
    'adamw',
    'adan',
    'amsgrad',
    'fromage',
    'lamb',
    'lars',
    'lbfgs',
    'lion',
    'nadam',
    'nadamw',
    'noisy_sgd',
    'novograd',
    'optimistic_adam',
    'optimistic_adam_v2',
    'optimistic_gradient_descent',
    'polyak_sgd',
    'radam',
    'rmsprop',
    'rprop',
    'sgd',
    'sign_sgd',
    'signum',
    'sm3',
    'yogi',
]
